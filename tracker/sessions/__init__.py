"""Sessions blueprint: views, forms, queries and operations."""
