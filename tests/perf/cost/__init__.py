"""`make cost`: what a million uploads cost on AWS, by file size, and what choices change."""
