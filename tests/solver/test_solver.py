#!/usr/bin/python3
# Parallax — the caps solver from Python, through GObject-introspection,
# and parallax-launch's exit codes and JSON.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import json
import os
import shutil
import tempfile
import subprocess
import sys
import unittest

import gi

gi.require_version("Gst", "1.0")
gi.require_version("Parallax", "1.0")
from gi.repository import GLib, Gst, Parallax  # noqa: E402

Gst.init(None)
Parallax.init()


def run_to_eos(pipeline):
    bus = pipeline.get_bus()
    assert pipeline.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE
    msg = bus.timed_pop_filtered(30 * Gst.SECOND,
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    return msg.type if msg else None


class SolverFromPython(unittest.TestCase):
    def test_repair_through_gi(self):
        solver = Parallax.Solver.new()
        pipeline = Parallax.parse_launch(
            "videotestsrc num-buffers=5 ! video/x-raw,format=RGB ! "
            "x264enc ! fakesink", solver)
        plan = solver.solve(pipeline)
        self.assertTrue(plan.is_solvable())
        self.assertTrue(plan.changes_pipeline())
        self.assertEqual(plan.get_n_conversions(), 1)
        conv = plan.get_conversion(0)
        self.assertEqual(conv.get_src_pad(), "capsfilter0:src")
        self.assertEqual(conv.get_sink_pad(), "x264enc0:sink")
        self.assertEqual(conv.get_converters(), ["videoconvert"])
        self.assertEqual(conv.get_fields(), ["format"])
        self.assertTrue(solver.apply(plan))
        self.assertEqual(conv.get_element_names(), ["px-videoconvert0"])
        self.assertEqual(run_to_eos(pipeline), Gst.MessageType.EOS)

    def test_diagnostic_fields_and_suggestion(self):
        solver = Parallax.Solver.new()
        pipeline = Parallax.parse_launch(
            "videotestsrc ! video/x-raw(memory:NVVM) ! fakesink", solver)
        plan = solver.solve(pipeline)
        self.assertFalse(plan.is_solvable())
        diag = plan.find_diagnostic(Parallax.DiagnosticCode.UNKNOWN_FEATURE)
        self.assertIsNotNone(diag)
        self.assertEqual(diag.get_code_string(), "PX-E006")
        self.assertEqual(diag.get_severity(), Parallax.Severity.ERROR)
        self.assertEqual(diag.get_src_pad(), "videotestsrc0:src")
        self.assertEqual(diag.get_sink_pad(), "capsfilter0:sink")
        self.assertIn("memory", diag.get_fields())
        found, up, down, conflict = diag.get_field("memory")
        self.assertTrue(found and conflict)
        self.assertEqual(down, "memory:NVVM")
        self.assertIn("memory:NVMM", diag.get_suggestion())
        self.assertIn("error[PX-E006]", diag.to_string())
        with self.assertRaises(GLib.Error):
            solver.apply(plan)

    def test_application_registers_a_converter(self):
        registry = Parallax.ConverterRegistry.new()
        conv = Parallax.Converter.new("audioconvert", "audio/x-raw",
                                      ["format", "channels"], 2)
        self.assertTrue(registry.add(conv))
        self.assertEqual([c.get_factory_name()
                          for c in registry.get_converters()],
                         ["audioconvert"])
        solver = Parallax.Solver.new()
        solver.set_registry(registry)
        pipeline = Parallax.parse_launch(
            "audiotestsrc num-buffers=5 ! audio/x-raw,channels=1 ! "
            "audio/x-raw,channels=2 ! fakesink", solver)
        plan = solver.solve(pipeline)
        self.assertEqual(plan.get_conversion(0).get_converters(),
                         ["audioconvert"])
        self.assertEqual(plan.get_total_cost(),
                         plan.get_conversion(0).get_cost())
        self.assertTrue(solver.apply(plan))
        self.assertEqual(run_to_eos(pipeline), Gst.MessageType.EOS)

    def test_json_is_valid(self):
        solver = Parallax.Solver.new()
        pipeline = Parallax.parse_launch(
            "videotestsrc ! tee name=t t. ! queue ! video/x-raw,format=I420 "
            "! fakesink t. ! queue ! video/x-raw,format=RGB ! fakesink",
            solver)
        plan = solver.solve(pipeline)
        data = json.loads(plan.to_json())
        self.assertTrue(data["solvable"])
        self.assertEqual([(c["src"], c["sink"], c["converters"])
                          for c in data["conversions"]],
                         [("t:src_1", "queue1:sink", ["videoconvert"])])
        self.assertGreater(data["caps_queries"], 0)
        self.assertEqual(data["caps_queries"], plan.get_caps_queries())

    def test_isolated_through_gi(self):
        solver = Parallax.Solver.new()
        pipeline = Parallax.parse_launch_isolated(
            "videotestsrc num-buffers=5 ! video/x-raw,width=64,height=48 ! "
            "vp8enc deadline=1 ! vp8dec ! video/x-raw,format=RGB ! fakesink",
            solver, ["vp8d*"], False)
        sandbox = pipeline.get_by_name("sandboxbin0")
        self.assertEqual(sandbox.get_factory().get_name(), "sandboxbin")
        self.assertEqual(sandbox.get_property("description"), "vp8dec")
        self.assertIsNone(pipeline.get_by_name("vp8dec0"))
        plan = solver.solve(pipeline)
        self.assertTrue(plan.is_solvable())
        note = plan.find_diagnostic(Parallax.DiagnosticCode.ISOLATED)
        self.assertEqual(note.get_code_string(), "PX-N006")
        # Seen through: vp8dec makes I420 only.
        conv = plan.find_conversion("sandboxbin0:src", "capsfilter1:sink")
        self.assertEqual(conv.get_converters(), ["videoconvert"])
        self.assertIn("raw video only",
                      plan.get_link_copy_reason("vp8enc0:src"))
        self.assertIsNone(plan.get_link_copy_reason("sandboxbin0:src"))
        self.assertTrue(solver.apply(plan))
        self.assertEqual(run_to_eos(pipeline), Gst.MessageType.EOS)

    def test_not_isolated_says_why(self):
        solver = Parallax.Solver.new()
        pipeline = Parallax.parse_launch_isolated(
            "videotestsrc num-buffers=5 ! tee name=t t. ! queue ! fakesink "
            "t. ! queue ! fakesink", solver, ["tee", "videotestsrc"], False)
        self.assertIsNotNone(pipeline.get_by_name("t"))
        plan = solver.solve(pipeline)
        refused = [plan.get_diagnostic(i)
                   for i in range(plan.get_n_diagnostics())
                   if plan.get_diagnostic(i).get_code() ==
                   Parallax.DiagnosticCode.NOT_ISOLATED]
        self.assertEqual([d.get_sink_pad() for d in refused],
                         ["videotestsrc0", "t"])
        self.assertIn("not sources", refused[0].get_message())
        self.assertIn("request", refused[1].get_message())

    def test_copies_in_json(self):
        solver = Parallax.Solver.new()
        pipeline = Parallax.parse_launch(
            "videotestsrc ! video/x-raw,format=I420 ! tee ! "
            "ipcsink socket-path=@px-solver-py-copies", solver)
        plan = solver.solve(pipeline)
        links = {l["src"]: l for l in json.loads(plan.to_json())["links"]}
        self.assertTrue(links["tee0:src_0"]["copied"])
        self.assertTrue(links["tee0:src_0"]["arena_pool"])
        self.assertIn("tee", links["tee0:src_0"]["copy_reason"])
        self.assertFalse(links["videotestsrc0:src"]["copied"])
        self.assertIsNone(links["videotestsrc0:src"]["copy_reason"])


LAUNCH = os.environ.get("PX_PARALLAX_LAUNCH")


@unittest.skipUnless(LAUNCH, "PX_PARALLAX_LAUNCH is not set")
class LaunchTool(unittest.TestCase):
    def launch(self, *args):
        return subprocess.run([LAUNCH, *args], capture_output=True,
                              text=True, timeout=120)

    def test_repairs_and_runs(self):
        r = self.launch("-q", "videotestsrc", "num-buffers=5", "!",
                        "video/x-raw,format=RGB", "!", "x264enc", "!",
                        "fakesink")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_no_fix_exits_2_when_something_would_change(self):
        r = self.launch("--no-fix", "videotestsrc ! video/x-raw,format=RGB "
                        "! x264enc ! fakesink")
        self.assertEqual(r.returncode, 2, r.stderr)
        r = self.launch("--no-fix", "videotestsrc ! fakesink")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_impossible_exits_1_with_the_explanation(self):
        r = self.launch("videotestsrc ! vorbisenc ! fakesink")
        self.assertEqual(r.returncode, 1)
        self.assertIn("error[PX-E002]", r.stdout)
        self.assertIn("videotestsrc0:src ! vorbisenc0:sink", r.stdout)

    def test_json_output(self):
        r = self.launch("--json", "--no-fix",
                        "audiotestsrc ! audio/x-raw,rate=8000 ! "
                        "audio/x-raw,rate=16000 ! fakesink")
        self.assertEqual(r.returncode, 2, r.stderr)
        data = json.loads(r.stdout)
        self.assertEqual(data["conversions"][0]["converters"],
                         ["audioresample"])

    def test_runtime_error_exits_255(self):
        r = self.launch("-q", "filesrc location=/nonexistent/file ! fakesink")
        self.assertEqual(r.returncode, 255)

    def test_parse_error_exits_1(self):
        r = self.launch("videotestsrc ! nosuchelement")
        self.assertEqual(r.returncode, 1)
        self.assertIn("No element \"nosuchelement\"", r.stderr)

    def test_graph_dot(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "plan.dot")
            r = self.launch("--no-fix", "--graph=" + path,
                            "videotestsrc ! video/x-raw,format=RGB ! "
                            "x264enc ! fakesink")
            self.assertEqual(r.returncode, 2, r.stderr)
            with open(path) as f:
                dot = f.read()
            self.assertIn("videoconvert (inserted)", dot)

    @unittest.skipUnless(shutil.which("dot"), "Graphviz's dot is missing")
    def test_graph_svg(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "plan.svg")
            r = self.launch("--no-fix", "--graph=" + path,
                            "videotestsrc ! video/x-raw,format=RGB ! "
                            "x264enc ! fakesink")
            self.assertEqual(r.returncode, 2, r.stderr)
            with open(path) as f:
                self.assertIn("<svg", f.read())

    def test_isolated_explains_what_it_wrapped(self):
        line = ("videotestsrc num-buffers=5 ! video/x-raw,width=64,height=48 "
                "! vp8enc deadline=1 ! matroskamux ! matroskademux ! vp8dec ! "
                "video/x-raw,format=RGB ! fakesink")
        r = self.launch("-q", "--explain", "--isolated", line)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning[PX-W002]: matroskademux0 not isolated", r.stdout)
        self.assertIn('vp8dec0 runs isolated in sandboxbin0, one worker: '
                      '"vp8dec"', r.stdout)
        self.assertIn("note[PX-N001]: videoconvert between sandboxbin0:src",
                      r.stdout)
        r = self.launch("-q", "--explain", "--isolated", "--group", line)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('matroskademux0, vp8dec0 run isolated in sandboxbin0, '
                      'one worker: "matroskademux ! vp8dec"', r.stdout)
        self.assertNotIn("PX-W002", r.stdout)

    def test_isolated_patterns_keep_properties(self):
        r = self.launch("-q", "--explain", "--isolated=vp8e*,nothing",
                        "videotestsrc num-buffers=5 ! "
                        "video/x-raw,width=64,height=48 ! "
                        "vp8enc deadline=1 name=\"my enc\" ! fakesink")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('my enc runs isolated in sandboxbin0, one worker: '
                      '"vp8enc deadline=1 name="my enc""', r.stdout)

    def test_group_needs_isolated(self):
        r = self.launch("--group", "videotestsrc ! fakesink")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--isolated", r.stderr)

    def test_json_and_graph_say_where_buffers_are_copied(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "plan.dot")
            r = self.launch("--json", "--no-fix", "--graph=" + path,
                            "audiotestsrc ! ipcsink socket-path=@px-py-copy")
            self.assertEqual(r.returncode, 0, r.stderr)
            link = json.loads(r.stdout)["links"][0]
            self.assertTrue(link["copied"])
            self.assertIn("raw video only", link["copy_reason"])
            with open(path) as f:
                dot = f.read()
            self.assertIn("copied: ipcsink0 proposes an arena pool", dot)
            self.assertIn("darkorange", dot)

    def test_inspect_and_list(self):
        r = self.launch("--inspect", "filesrc")
        self.assertEqual(r.returncode, 0)
        self.assertIn("needs files     probably", r.stdout)
        r = self.launch("--list-elements")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"(?m)^ C videoconvert ")


if __name__ == "__main__":
    sys.exit(unittest.main())
