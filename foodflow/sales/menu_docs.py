LINKS: tuple = ()
