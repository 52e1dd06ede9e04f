"""Bulk open data: the whole public data set as CSV and JSON files, with a manifest.

``services.export_open_data`` writes every file of a new set in one streamed pass per
data set, then publishes the set by replacing the top-level manifest (see ``store``);
``views`` serves the current set under /data/ and describes it on the open-data page.
"""
