"""Adverse events register: practitioners report, managers review and close."""
