/* Parallax — what applications call: shareable memory, and (soon) the
 * global caps solver.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Build against it with `pkg-config --cflags --libs parallax-1.0`, or from
 * Python through GObject-introspection:
 *
 *   import gi
 *   gi.require_version ("Gst", "1.0")
 *   gi.require_version ("Parallax", "1.0")
 *   from gi.repository import Gst, Parallax
 *   Gst.init (None)
 *   Parallax.init ()
 *   pool = Parallax.ArenaPool.new ()
 */
#ifndef __GST_PX_PARALLAX_H__
#define __GST_PX_PARALLAX_H__

#include <parallax/parallax-prelude.h>
#include <parallax/gstpxarenapool.h>
#include <parallax/gstpxmemfdallocator.h>
#include <parallax/solver/gstpxsolver.h>

G_BEGIN_DECLS GST_PX_API void gst_px_init (void);

G_END_DECLS
#endif /* __GST_PX_PARALLAX_H__ */
