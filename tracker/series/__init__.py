"""Series blueprint: views, forms, queries and operations."""
