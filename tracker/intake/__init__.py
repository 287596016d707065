"""Intake checks for returned workbooks: file safety and legacy Vietnamese encodings."""
