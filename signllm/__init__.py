"""Notebook-first educational research kit for sign language AI: keypoints, sign production and sign translation, chapter by chapter"""

__version__ = "0.1.0"
