"""Data of every family, each in its own package with a public interface: synthetic stick figures
(``stick``), multi-figure images (``multi``), the pressure-mat simulator and its splits
(``pressure``); ``draw`` holds the drawing primitives the two stick-figure generators share."""
