"""Searching published explanations: Vietnamese-aware tokens and a BM25 index (bm25s)."""
