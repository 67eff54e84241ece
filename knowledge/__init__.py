"""Pana's knowledge base: data files under ``data/``, their schema, loader and checks."""

from knowledge.base import KnowledgeBase
from knowledge.loader import KnowledgeError, load_knowledge

__all__ = ["KnowledgeBase", "KnowledgeError", "load_knowledge"]
