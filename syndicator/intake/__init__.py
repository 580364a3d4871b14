"""Tender records in: parsing, validation, submission."""
