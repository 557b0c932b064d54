(() => {
    const read = (doc, depth) => {
        let text = doc.body ? doc.body.innerText : '';
        if (depth > 3) return text;
        for (const f of doc.querySelectorAll('iframe, frame')) {
            let inner = null;
            try { inner = f.contentDocument; } catch (e) { inner = null; }
            if (!inner) continue;
            const own = read(inner, depth + 1);
            if (own.trim()) text += '\n[frame ' + (f.title || f.name || f.src) + ']\n' + own;
        }
        return text;
    };
    return read(document, 0);
})()
