"""Take it home: each page's experiment as one runnable PyTorch program (``export.programs``).

The programs are real files in ``export/templates/``, their words in both languages in
``export/comments.toml``; ``course_code(page, settings, lang=...)`` writes a student's program.
"""

from export.programs import (
    DATA_FILES,
    ERROR_MESSAGES,
    LANGS,
    PAGES,
    SETTINGS,
    TEMPLATES,
    ExportError,
    comments,
    course_code,
    course_code_filename,
    data_file,
    defaults,
    run_command,
    settings_for,
)

__all__ = [
    "DATA_FILES", "ERROR_MESSAGES", "LANGS", "PAGES", "SETTINGS", "TEMPLATES", "ExportError", "comments", "course_code",
    "course_code_filename", "data_file", "defaults", "run_command", "settings_for",
]
