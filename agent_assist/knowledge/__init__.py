"""The offline knowledge base: articles in SQLite with an FTS5 index."""
