"""Readers and writers for the file formats tmbcalc consumes and produces."""
