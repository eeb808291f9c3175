"""Stats pages."""
