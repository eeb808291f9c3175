"""Security pages."""
