"""The report stage: results files read into tables, the summary, the words, HTML and PDF."""
