"""What a class needs around the course: the class board's database, trained models shared on disk,
the training slots every worker process shares, and trainings that run beside a page.

Below ``app/`` and beside ``lessons/``: it may use ``lessons`` (and SQLAlchemy, file locks, threads),
never Streamlit or ``app``.
"""
