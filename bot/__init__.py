"""giaitrinh gateway and domain core."""
