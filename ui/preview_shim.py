"""Browser storage for a preview that has none: a script the proxy puts first in every page of the app.

The preview runs in an opaque origin (CSP sandbox), where the browser throws on any touch of localStorage
or sessionStorage. Generated apps use them all the time (saved entries, NiceGUI's tab id), and would stop
at their first line. When, and only when, the browser refuses them, this gives the page in-memory stand-ins
with the same interface (methods and property access), so the app runs and its data lasts as long as the
page. It adds nothing the app could not do itself and reaches nothing outside the page.
"""

from __future__ import annotations

import re

STORAGE_SHIM = (
    b'<script>(function(){function mem(){var d=new Map(),api={getItem:function(k){k=String(k);'
    b'return d.has(k)?d.get(k):null},setItem:function(k,v){d.set(String(k),String(v))},'
    b'removeItem:function(k){d.delete(String(k))},clear:function(){d.clear()},'
    b'key:function(i){var k=Array.from(d.keys())[i];return k===undefined?null:k}};'
    b'return new Proxy(api,{get:function(t,p){if(p==="length")return d.size;if(p in t)return t[p];'
    b'return d.has(p)?d.get(p):undefined},set:function(t,p,v){d.set(String(p),String(v));return true},'
    b'deleteProperty:function(t,p){d.delete(String(p));return true},has:function(t,p){return p in t||d.has(p)}})}'
    b'["localStorage","sessionStorage"].forEach(function(n){try{window[n].length}catch(e){'
    b'Object.defineProperty(window,n,{value:mem(),configurable:true})}})})();</script>'
)
_HEAD = re.compile(rb'<head(?:\s[^>]*)?>', re.IGNORECASE)
_HTML = re.compile(rb'<html(?:\s[^>]*)?>', re.IGNORECASE)


def with_storage_shim(page: bytes) -> bytes:
    """The page with the shim first in its head (before any script of the app)."""
    for tag in (_HEAD, _HTML):
        found = tag.search(page)
        if found:
            return page[: found.end()] + STORAGE_SHIM + page[found.end() :]
    doctype = re.match(rb'\s*<!doctype[^>]*>', page, re.IGNORECASE)
    at = doctype.end() if doctype else 0
    return page[:at] + STORAGE_SHIM + page[at:]
