"""Backups of an instance (database, media files, manifest with hashes) and their restore."""
