//! `portcullis hunt`. (Being implemented.)
