//! Version ordering per ecosystem. (Interface fixed; implementation in progress.)
