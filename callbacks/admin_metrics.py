"""The satisfaction metrics page in the admin (being built)."""
