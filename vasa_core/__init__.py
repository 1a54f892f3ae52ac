"""vasa-kit core."""
