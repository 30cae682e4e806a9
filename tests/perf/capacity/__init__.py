"""`make capacity`: which AWS limit saturates first at a given upload rate, and what lifts it."""
