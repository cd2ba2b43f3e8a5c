/**
 * Text the tiny tokenizer's merges are learned from: prompts of the kind people give Stable
 * Diffusion, so common prompt words become single tokens as they are in CLIP's real vocabulary.
 * Repetition is deliberate; word frequency is what BPE learns from.
 */
export const PROMPT_CORPUS = `
a photograph of an astronaut riding a horse on the moon, highly detailed, 8k
a painting of a fox sitting in a field at sunrise, oil on canvas, impressionism
portrait of a beautiful woman with long red hair, digital painting, artstation, concept art, sharp focus, illustration
a cat wearing a wizard hat, fantasy, magical, glowing, volumetric lighting
a futuristic city at night with neon lights and flying cars, cyberpunk, rain, reflections
an old man with a white beard, portrait, dramatic lighting, black and white photography
a cozy cabin in the snowy mountains, warm light in the windows, winter evening
a dragon flying over a medieval castle, epic fantasy landscape, matte painting
a bowl of fruit on a wooden table, still life, soft light, realistic
a lighthouse on a rocky coast during a storm, waves crashing, dramatic sky
a cute robot watering flowers in a garden, pixar style, 3d render, octane render
a forest path in autumn with golden leaves, morning fog, sun rays through the trees
an underwater scene with colorful coral reef and tropical fish, vibrant colors
a steampunk airship above the clouds, brass and copper, intricate details
a watercolor painting of a small village by the river, pastel colors
a samurai standing in the rain, cinematic, moody, film grain
a majestic lion in the savanna at golden hour, wildlife photography, telephoto lens
a spaceship landing on an alien planet with two suns, science fiction, concept art
a vase of sunflowers, in the style of vincent van gogh, thick brush strokes
a mountain lake reflecting snowy peaks, landscape photography, wide angle, hdr
a young girl reading a book under a tree, studio ghibli style, anime
a knight in shining armor holding a sword, heroic pose, fantasy art, trending on artstation
an abstract painting with geometric shapes and bold colors, modern art
a close up photo of a dew drop on a green leaf, macro photography, bokeh
a haunted house on a hill under a full moon, dark, spooky, gothic
a street market in marrakech, busy crowd, colorful spices, travel photography
a portrait of a cyborg with glowing blue eyes, highly detailed face, unreal engine
a small boat on a calm sea at sunset, minimalism, orange and purple sky
a library with tall bookshelves and warm lamps, cozy interior, architectural photography
a tiger walking through the jungle, lush vegetation, national geographic
a bowl of ramen with steam rising, food photography, shallow depth of field
a castle made of crystal floating in the sky, ethereal, dreamlike, surreal
a vintage car parked on a city street, retro, 1960s, kodachrome
a hummingbird drinking nectar from a red flower, high speed photography
a mech robot in a ruined city, post apocalyptic, dust, dramatic composition
an elegant ballroom with chandeliers, baroque, rococo, gold ornaments
a lonely tree on a hill under the milky way, night sky, stars, long exposure
a medieval tavern full of adventurers, warm candlelight, detailed illustration
a pencil sketch of a horse running, graphite drawing, black and white
a japanese temple with cherry blossoms in spring, peaceful, serene
an ice cream cone melting in the summer heat, pop art, bright colors
a polar bear on an ice floe, arctic, blue tones, documentary photo
a witch brewing a potion in her cottage, fairy tale, storybook illustration
a waterfall in a tropical rainforest, mist, rainbow, lush green
a desert with sand dunes and a camel caravan, golden light, wide shot
a self portrait of an artist in her studio, expressionism, vivid palette
a cathedral interior with stained glass windows, light beams, symmetry
a wolf howling at the moon, silhouette, winter forest, blue night
a cup of coffee on a rainy window sill, cozy, lofi aesthetic
a fantasy map of an island kingdom, parchment, ink, hand drawn
an astronaut floating in space with earth in the background, realistic, nasa photo
a pirate ship sailing through a stormy ocean, dramatic waves, oil painting
a cute puppy playing in the grass, soft focus, adorable, photo
a mysterious woman in a red dress walking in the fog, film noir
a greenhouse full of exotic plants and butterflies, botanical illustration
a snowy village at christmas with lights and decorations, festive
a portrait of a king wearing a golden crown, renaissance painting, rembrandt lighting
a giant whale swimming through clouds, surreal, fantasy, dreamy
a neon sign in a dark alley, synthwave, purple and pink, retro futurism
a cottage garden with roses and lavender, english countryside, summer
a cat sleeping on a pile of books, warm afternoon light, cozy
a burning phoenix rising from ashes, fire, embers, mythical creature
a river winding through a valley, aerial view, drone photography
a portrait of an elf with pointed ears and silver hair, fantasy character design
a city skyline at dawn, skyscrapers, glass towers, architecture
a bouquet of wildflowers in a mason jar, rustic, natural light
a sword in a stone in an enchanted forest, magic, glowing runes
a snowy owl perched on a branch, detailed feathers, wildlife
a chess board with pieces in the middle of a game, dramatic shadows, macro
a train crossing a bridge in the mountains, steam, vintage postcard
a volcano erupting at night, lava flows, smoke, dramatic
a mermaid sitting on a rock by the sea, fantasy painting, shimmering scales
a tea party in a wonderland garden, whimsical, colorful, illustration
a portrait photo of a man with freckles, natural light, 85mm lens, sharp
a space station orbiting a gas giant, hard science fiction, detailed
a village in the clouds, floating islands, waterfalls, fantasy landscape
a dog wearing sunglasses on a beach, funny, summer vibes
a marble statue of a greek goddess, classical sculpture, museum lighting
a field of tulips in the netherlands with a windmill, spring, vibrant
a dark forest with glowing mushrooms, bioluminescent, mysterious
a street in paris after the rain, cafe, evening, impressionist painting
an owl wizard reading a spell book, anthropomorphic, fantasy illustration
a close up portrait of a tiger, intense eyes, orange and black stripes
a minimalist poster of a mountain at sunset, flat design, vector art
a ruined temple overgrown with vines, ancient, jungle, adventure
a bowl of soup with bread, rustic kitchen, still life painting
a hot air balloon over a valley at sunrise, colorful, peaceful
a glass bottle with a tiny galaxy inside, magical, detailed, macro
a knight fighting a giant monster, epic battle, dynamic pose, concept art
a rainy tokyo street at night, umbrellas, neon reflections, cinematic
a pink flamingo standing in shallow water, tropical, pastel
a robot and a child holding hands, heartwarming, digital art
a wooden boat on a misty lake, calm, moody, fine art photography
beautiful, stunning, gorgeous, amazing, epic, awesome, masterpiece, best quality, high quality
highly detailed, ultra detailed, intricate details, sharp focus, smooth, elegant
photorealistic, hyperrealistic, realistic, photo, photograph, photography, professional photo
digital art, digital painting, concept art, illustration, matte painting, oil painting, watercolor
trending on artstation, artstation, deviantart, pixiv, behance, unreal engine, octane render
cinematic lighting, dramatic lighting, volumetric lighting, soft lighting, studio lighting, rim light
golden hour, blue hour, sunset, sunrise, night, morning, evening, twilight, dusk, dawn
4k, 8k, hd, uhd, high resolution, wallpaper, poster, cover art, album cover
red, orange, yellow, green, blue, purple, violet, pink, white, black, gray, brown, gold, silver
colorful, vibrant, pastel, muted, dark, bright, warm, cold, monochrome, sepia
woman, man, girl, boy, child, person, people, face, portrait, character, hero, princess, queen
cat, dog, horse, bird, fish, dragon, tiger, lion, wolf, fox, owl, bear, rabbit, deer, butterfly
forest, mountain, river, lake, ocean, sea, beach, desert, island, sky, clouds, city, village
house, castle, temple, tower, bridge, street, room, garden, field, cave, ruins, palace
fantasy, science fiction, cyberpunk, steampunk, surreal, abstract, gothic, medieval, futuristic
anime, manga, cartoon, comic, pixar, disney, ghibli, render, 3d, sculpture, sketch, drawing
by greg rutkowski, by alphonse mucha, by artgerm, by makoto shinkai, by claude monet
wide angle, close up, full body, portrait shot, aerial view, low angle, bokeh, depth of field
lens, camera, canon, nikon, sony, 35mm, 50mm, 85mm, film, kodak, polaroid, analog
light, shadow, glow, glowing, shining, sparkling, reflection, reflections, fog, mist, smoke
wearing, holding, standing, sitting, walking, running, flying, floating, dancing, smiling
in the style of, inspired by, made of, covered in, surrounded by, looking at the viewer
ugly, blurry, bad anatomy, deformed, disfigured, low quality, worst quality, watermark, text
`;
