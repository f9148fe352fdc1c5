"""imagenet (class-per-folder) and imagenet_txt (label list) formats."""
