"""Pressure-map simulator: a kinematic body lying on a pressure-sensing mat (SLP-like
84 x 192 mat and an "unfamiliar" 32 x 64 mat). See docs/spmkd.md."""
from .body import JOINTS, POSTURES, Body, sample_body, sample_pose
from .simulate import (MATS, SLP_MAT, UNFAMILIAR_MAT, MatConfig, Sample, generate_dataset, load_dataset,
                       load_pressure_only, mat_by_name, save_dataset, simulate_sample)

__all__ = ["JOINTS", "POSTURES", "Body", "sample_body", "sample_pose", "MATS", "SLP_MAT", "UNFAMILIAR_MAT",
           "MatConfig", "Sample", "generate_dataset", "load_dataset", "load_pressure_only", "mat_by_name",
           "save_dataset", "simulate_sample"]
