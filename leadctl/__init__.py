"""leadctl: decide every night which prospects sales should follow up, in what order and by whom."""

__version__ = "0.1.0"
