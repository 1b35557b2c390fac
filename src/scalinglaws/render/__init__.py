"""Renderings of results for people: plain text, terminal tables, notebook HTML."""
