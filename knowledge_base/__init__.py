"""The intervention corpus (Markdown passages with metadata), crisis resources, and ingestion."""
