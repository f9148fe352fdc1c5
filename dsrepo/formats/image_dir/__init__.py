"""image_dir and image_zip formats: unannotated images in a folder or in zip archives."""
