"""Pana's knowledge base: data files under ``data/``, their schema, loader and checks."""

from knowledge.base import KnowledgeBase
from knowledge.loader import load_knowledge
from knowledge.problems import KnowledgeError, Problem

__all__ = ["KnowledgeBase", "KnowledgeError", "Problem", "load_knowledge"]
