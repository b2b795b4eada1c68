"""Public corpora: how members really write, with the reading a person would expect."""
