"""Shared pieces of squeezed-signals: data model, encoders, file formats, reporting.

Each module states its role in its docstring. Layers (a module only imports those above it):
errors/atomic/progress -> dataset -> bits/primitives -> encoders -> binary_format
-> downsampling -> data_generator/importers -> report.
"""
