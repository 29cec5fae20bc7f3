"""The course's logic, free of any UI: numpy, pandas and torch only, never streamlit.

Each module follows one part of the course; the pages in ``pages/`` only add widgets
and charts on top. Modules that need torch import it themselves, so importing
``lessons`` (or a torch-free lesson) stays fast.
"""
