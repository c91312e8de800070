//! Accepted risks. (Interface to be designed by its work item.)
