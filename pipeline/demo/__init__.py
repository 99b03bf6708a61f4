"""The demo business world generator.

A seeded simulation of a subscription business (``simulate``), its monthly export files with
realistic mess (``build_demo_files``, ``demo_files_ready``) and the export job that drops one
month at a time into the landing folder, labels a month late (``release_month``).
"""

from pipeline.demo.files import build_demo_files, demo_files_ready, release_month
from pipeline.demo.world import simulate

__all__ = ["build_demo_files", "demo_files_ready", "release_month", "simulate"]
