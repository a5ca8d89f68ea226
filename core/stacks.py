"""The stacks the offline model can build, and which one a plan's stack text names.

A plan carries its stack as words (core/journey/plans.py stamps them); the offline model reads them
back with `stack_of`, so choosing a stack means choosing it in the plan, not a flag in the builder.
"""

from __future__ import annotations

import re

STDLIB, FASTAPI, VITE_REACT = 'stdlib', 'fastapi', 'vite-react'
STACK_TEXT = {
    STDLIB: 'Python standard library only (one app.py, data saved in JSON files, nothing to install)',
    FASTAPI: 'FastAPI + SQLite (Python: FastAPI served by uvicorn, data saved in SQLite; packages from PyPI)',
    VITE_REACT: 'Vite + React (a React front end built with Vite, data kept in the browser; packages from npm)',
}

# What the workspace can build and preview; a real model's plans name one of these (the offline model's
# plans use STACK_TEXT), and the agent's prompt names them too.
SANDBOX_STACKS = (
    'Python standard library',
    'FastAPI + SQLite',
    'Flask + SQLite',
    'Vite + React (with a small FastAPI or Flask API where the features need one)',
    'NiceGUI',
)


def stack_of(text: object) -> str:
    """The stack a plan's stack text names ('' or anything unknown: the standard library)."""
    words = str(text or '').casefold()
    if re.search(r'\bfastapi\b', words):
        return FASTAPI
    if re.search(r'\b(vite|react)\b', words):
        return VITE_REACT
    return STDLIB
