"""Main blueprint: views, forms, queries and operations."""
