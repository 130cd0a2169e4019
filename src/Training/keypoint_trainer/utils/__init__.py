"""Shared training utilities (also used by the spmkd plug-in)."""
from .seeding import seed_everything, get_rng_state, set_rng_state, epoch_permutation
from .progress import Progress, format_duration
from .checkpoint import save_checkpoint, load_checkpoint, latest_checkpoint
from .system import configure_threads, machine_info, git_commit, versions

__all__ = ["seed_everything", "get_rng_state", "set_rng_state", "epoch_permutation", "Progress",
           "format_duration", "save_checkpoint", "load_checkpoint", "latest_checkpoint",
           "configure_threads", "machine_info", "git_commit", "versions"]
