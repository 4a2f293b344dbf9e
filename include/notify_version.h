/* mod_notify's version: the one place it is defined. httpd shows it as
 * mod_notify/<version> among its version components; the Makefile reads
 * it from here for packages. */
#ifndef NOTIFY_VERSION_H
#define NOTIFY_VERSION_H

#define NOTIFY_VERSION "0.14.0"

#endif
