"""Discrete-event emulator of integrated LEO-satellite / terrestrial radio networks."""

__version__ = "0.1.0"
