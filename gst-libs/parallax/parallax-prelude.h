/* Parallax — symbol export for libparallax-1.0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_PRELUDE_H__
#define __GST_PX_PRELUDE_H__

#include <gst/gst.h>

/* The library is built with hidden visibility; what carries GST_PX_API is
 * its interface (public headers for applications, the private headers for
 * the plugin). */
#if defined(BUILDING_GST_PX) && defined(__GNUC__)
#define GST_PX_API __attribute__ ((visibility ("default"))) extern
#else
#define GST_PX_API extern
#endif

#endif /* __GST_PX_PRELUDE_H__ */
