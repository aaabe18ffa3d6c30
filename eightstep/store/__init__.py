"""Persistence: sqlmodel tables, the database connection, content-addressed file storage."""
