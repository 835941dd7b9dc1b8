import evaluate
from evaluate.utils import launch_gradio_widget

module = evaluate.load("est_metric.py", "joint")
launch_gradio_widget(module)
