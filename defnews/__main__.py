from defnews.cli import main

raise SystemExit(main())
