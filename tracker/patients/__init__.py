"""Patients blueprint: views, forms, queries and operations."""
