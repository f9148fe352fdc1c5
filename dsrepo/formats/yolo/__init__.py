"""YOLO formats: darknet (yolo) and Ultralytics (yolo_ultralytics)."""
