"""tools/distill_results.py: verdicts per target, and the rendered page keeps the GLNN
latency table (from docs/results/glnn_latency.json) and the quantized row's config."""
import json

import tools.distill_results as results


def _runs(row, student, baseline, teacher=0.8):
  return [{"row": row, "seed": s, "student": student + d, "baseline": baseline + d,
           "teacher": teacher} for s, d in enumerate((-0.01, 0.0, 0.01))]


def test_verdicts_compare_means():
  dq = results.ROWS["dq-kd-cora"]
  assert results.verdict(dq, _runs("dq-kd-cora", 0.80, 0.80)) == "met"     # at least as good
  assert results.verdict(dq, _runs("dq-kd-cora", 0.799, 0.80)) == "NOT met"
  lsp = results.ROWS["lsp-cora"]
  assert results.verdict(lsp, _runs("lsp-cora", 0.80, 0.80)) == "NOT met"  # must beat
  assert results.verdict(lsp, _runs("lsp-cora", 0.801, 0.80)) == "met"
  cpf = results.ROWS["cpf-cora"]
  assert results.verdict(cpf, _runs("cpf-cora", 0.821, 0.0, teacher=0.80)) == "met"
  assert results.verdict(cpf, _runs("cpf-cora", 0.819, 0.0, teacher=0.80)) == "NOT met"


def test_render_keeps_latency_table_and_quantization():
  bench = json.loads(results.LATENCY.read_text())
  ratio = bench["per_node_p50_ratio_teacher_over_student"]
  page = results.render(_runs("dq-kd-cora", 0.80, 0.79))
  assert f"| per-node p50 (ms) | {bench['per_node_latency_ms']['student']['p50']:.3f} |" in page
  assert f"{ratio:.1f}x" in page
  assert ("): met." if ratio >= 10 else "): NOT met.") in page
  assert "| dq-kd-cora |" in page and "80.0 ± 0.8 | met |" in page
  assert "'method': 'dq', 'weight_bits': 8, 'activation_bits': 8" in page
  assert "lsp_kernel': 'unit_distance'" in page
