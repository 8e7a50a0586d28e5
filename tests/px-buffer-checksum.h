/* Parallax — one checksum of a buffer, for the tests that compare a
 * stream in a worker with the same stream in-process.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef PX_BUFFER_CHECKSUM_H
#define PX_BUFFER_CHECKSUM_H

#include <gst/gst.h>

/* The SHA-1 of @buffer as hexadecimal text (free it): of the visible pixels
 * of each plane for raw video described by @caps — a worker may lay frames
 * out with other strides, depending on the pool it was given — and of the
 * bytes for anything else (@caps may be NULL). */
gchar *px_buffer_checksum (GstBuffer * buffer, GstCaps * caps);

#endif /* PX_BUFFER_CHECKSUM_H */
