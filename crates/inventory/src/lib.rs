//! Placeholder: the facade over ospkg, lockfile and sbom.
